"""Payment rails: Pix, boleto, SEPA and webhook signatures, as pure rules."""

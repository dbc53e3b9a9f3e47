"""Payment providers: the edges that talk to Stripe, Mercado Pago and the local sandbox."""

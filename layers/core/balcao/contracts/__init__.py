"""Request, response and event models at the edges (pydantic). The domain never imports them."""

"""Request, response and event models at the edges (pydantic). The domain never imports them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """The base of every contract model. Its validator and serializer are built at first use, not at import: a
    function imports the models of all its routes and a request uses one or two (part of every cold start)."""

    model_config = ConfigDict(defer_build=True)

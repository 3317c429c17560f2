"""The demo deployment's stages: a synthetic trade source and a pass-through stage."""

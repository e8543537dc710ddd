"""HTTP routes, one module per resource; each is a thin APIRouter over plain functions."""

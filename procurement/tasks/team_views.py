"""The agency's team per agreement and community: list, add, leave."""
from flask import Blueprint

bp = Blueprint("team", __name__, url_prefix="/team")

"""Progress records (工作记录): list, new, show, correct, withdraw, export."""
from flask import Blueprint

bp = Blueprint("records", __name__, url_prefix="/records")

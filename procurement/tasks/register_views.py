"""Registers of households, enterprises and shops per grid: lists, Excel template, import and export."""
from flask import Blueprint

bp = Blueprint("registers", __name__, url_prefix="/registers")

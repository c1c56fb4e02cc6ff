"""Open contracting data: the public record of tenders, awards, contracts and payments as
OCDS 1.1 release packages (`ocds.py` builds them, `views.py` serves them, `cli.py` exports
them). The official schema it is validated against is vendored in `schema/`."""

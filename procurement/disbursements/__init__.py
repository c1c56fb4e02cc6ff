"""Quarterly disbursements (按季度拨付) tied to the evaluated performance: the schedule, the
acceptance gate, the payable share by grade, approval by someone else, payment, withholding
and its release, the ledger and the agency's spending reports."""

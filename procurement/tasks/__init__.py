"""The service task list and grid work: targets, registers, progress records, grid cases, the team."""

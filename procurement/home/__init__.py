"""The role-aware home page: what each user has to do next."""

"""The signed-in home page: what this user can do here."""

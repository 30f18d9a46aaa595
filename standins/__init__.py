"""Local stand-ins for the outside services (Rent Manager, ...), speaking their real protocols."""

"""Settings from the environment, logging setup, and the reference data files under config/data/."""

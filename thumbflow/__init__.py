"""thumbflow's operator CLI and local mode: the SAM template, run in-process."""

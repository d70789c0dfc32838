"""thumbflow's Lambda code: thin handlers over an imaging core and an S3 adapter."""

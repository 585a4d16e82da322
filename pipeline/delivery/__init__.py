"""Notice delivery: its own consumer group on `hotline.notices`, sending by SMTP or a signed
webhook, each notice once (pipeline/delivery/service.py)."""

"""The lag monitor: every consumer group of the pipeline read from the broker each round, its
status judged in the style of Burrow, what the stages put out counted, and the queues operations
watch (review, dead letters, overdue notices), published to `hotline.monitor`.

Given its list of watched groups by whoever composes the stages (`pipeline/cli/stages.py`
`watched_groups()`): it knows no stage.
"""

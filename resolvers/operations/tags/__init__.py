"""Customer tags, classes and their inputs: rule language, service, reads, jobs (issue 12, item 2)."""

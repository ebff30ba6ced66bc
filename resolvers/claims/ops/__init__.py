"""Claims operations management: QA sampling of decided claims and progress tracking against SLAs."""

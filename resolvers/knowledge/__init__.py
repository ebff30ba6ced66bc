"""Knowledge and agent assist: versioned articles with approval, a coverage graph, Chinese search."""

"""Analytics: business metrics defined once, rolled up as events happen, recomputable offline."""

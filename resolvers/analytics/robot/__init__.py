"""The high-risk monitoring robot: customer features, a trained model, the watch list."""

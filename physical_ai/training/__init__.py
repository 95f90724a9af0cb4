"""Training and evaluation of the default detector on simulator images (plain Python and torch, no rclpy)."""

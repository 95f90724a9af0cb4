"""rclpy adapters: parameters in, messages in, call the core, messages out."""

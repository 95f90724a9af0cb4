"""The closed-loop demo: episodes on the embedded simulator, their recording, video and report."""

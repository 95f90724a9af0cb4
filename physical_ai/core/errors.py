"""Domain exceptions of the core. Nodes turn them into one log line and a lifecycle result."""


class PhysicalAIError(Exception):
    """Base of every error the project raises on bad input or configuration."""


class ImageError(PhysicalAIError, ValueError):
    """An image message or array that cannot be converted (size, step or encoding)."""


class ConfigError(PhysicalAIError, ValueError):
    """A parameter, profile or file whose value is not what the project accepts."""

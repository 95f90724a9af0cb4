"""Detection datasets in the YOLO format (data.yaml, images/, labels/): read, write, check, make."""

from physical_ai.core.datasets.yolo import (
    DatasetError,
    DatasetWriter,
    Problem,
    YoloDataset,
    check_dataset,
    load_dataset,
)

__all__ = ['DatasetError', 'DatasetWriter', 'Problem', 'YoloDataset', 'check_dataset', 'load_dataset']

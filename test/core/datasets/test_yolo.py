"""YOLO-format datasets: write, read back, check every broken label by file and line, fix the unambiguous."""

import numpy as np
import pytest

from physical_ai.core.datasets import DatasetError, DatasetWriter, check_dataset, load_dataset
from physical_ai.core.datasets.shapes import make_shapes, render_shapes
from physical_ai.core.datasets.yolo import dataset_hash, label_path


@pytest.fixture
def shapes(tmp_path):
    make_shapes(tmp_path / 'd', 10, ('disc', 'triangle'), seed=4)
    return tmp_path / 'd'


def test_written_boxes_read_back_in_pixels(tmp_path):
    rng = np.random.default_rng(0)
    writer = DatasetWriter(tmp_path / 'd', ('disc', 'square'), image_format='png')
    made = [render_shapes(rng, ('disc', 'square')) for _ in range(3)]
    for i, (image, boxes, classes) in enumerate(made):
        writer.add('train' if i < 2 else 'val', f'{i}', image, boxes, classes)
    writer.finish('test set')
    dataset = load_dataset(tmp_path / 'd')
    assert dataset.names == ('disc', 'square') and len(dataset.images('train')) == 2
    back = dataset.samples('train') + dataset.samples('val')
    for (image, boxes, classes), (image2, boxes2, classes2) in zip(made, back, strict=True):
        assert np.array_equal(image, image2)
        np.testing.assert_allclose(boxes2, boxes, atol=0.01)
        assert classes2.tolist() == classes.tolist()


def test_clean_dataset_passes_with_counts_and_sizes(shapes):
    report = check_dataset(shapes)
    assert report.ok, report.text()
    text = report.text()
    assert 'disc' in text and 'triangle' in text and '320x240 (10)' in text and 'ok: no problems' in text
    assert sum(report.counts['train']) + sum(report.counts['val']) > 0
    assert report.images == {'train': 8, 'val': 2}


@pytest.mark.parametrize(('line', 'message', 'fixable'), [
    ('7 0.5 0.5 0.1 0.1', 'class 7 is unknown', False),
    ('0 0.5 0.5 0.1', '4 fields; expected 5', False),
    ('0 a 0.5 0.1 0.1', 'is not numbers', False),
    ('0 1.5 0.5 0.1 0.1', 'outside the image', False),
    ('0 0.5 0.5 0 0.1', 'is not positive', False),
    ('1 0.999 0.5 0.01 0.1', 'outside the image', True),
])
def test_broken_label_named_by_file_and_line(shapes, line, message, fixable):
    labels = label_path(load_dataset(shapes).images('train')[0])
    count = len(labels.read_text().splitlines())
    labels.write_text(labels.read_text() + line + '\n')
    report = check_dataset(shapes)
    assert not report.ok and len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.file, problem.line, problem.fixable) == (labels, count + 1, fixable)
    assert message in problem.message and f'{labels}:{count + 1}: ' in report.text()
    fixed = check_dataset(shapes, fix=True)
    assert fixed.ok == fixable and len(fixed.fixed) == int(fixable)
    if not fixable:
        assert labels.read_text().splitlines()[-1] == line  # left as it was


def test_fix_drops_a_repeated_line_only(shapes):
    labels = label_path(load_dataset(shapes).images('train')[1])
    first = labels.read_text().splitlines()[0]
    labels.write_text(labels.read_text() + first + '\n')
    assert 'repeats an earlier line' in check_dataset(shapes).problems[0].message
    assert check_dataset(shapes, fix=True).ok and check_dataset(shapes).ok
    assert labels.read_text().splitlines().count(first) == 1


def test_label_without_image_and_unreadable_image(shapes):
    (shapes / 'labels' / 'train' / 'orphan.txt').write_text('0 0.5 0.5 0.1 0.1\n')
    (shapes / 'images' / 'train' / '000000.jpg').write_bytes(b'not a jpeg')
    messages = sorted(p.message for p in check_dataset(shapes).problems)
    assert messages[0].startswith('label file without an image') and 'not readable' in messages[1]


@pytest.mark.parametrize(('yaml_text', 'message'), [
    (None, 'has no data.yaml'),
    ('train: [images/train\n', 'cannot be read as YAML'),
    ('train: images/train\n', 'names is None'),
    ('train: images/elsewhere\nnames: [a]\n', 'does not exist'),
    ('names: [a]\n', 'no train entry'),
    ('train: images/train\nnc: 3\nnames: [a, b]\n', 'nc is 3 but 2 names'),
])
def test_malformed_dataset_is_one_clear_line(tmp_path, yaml_text, message):
    (tmp_path / 'images' / 'train').mkdir(parents=True)
    if yaml_text is not None:
        (tmp_path / 'data.yaml').write_text(yaml_text)
    with pytest.raises(DatasetError, match=message) as err:
        load_dataset(tmp_path)
    assert '\n' not in str(err.value)


def test_missing_folder_and_list_files(tmp_path, shapes):
    with pytest.raises(DatasetError, match='does not exist; expected a folder with a data.yaml'):
        load_dataset(tmp_path / 'nowhere')
    # Ultralytics also accepts names as a list and a split as a text file listing images.
    images = load_dataset(shapes).images('train')
    (shapes / 'train.txt').write_text(''.join(f'./images/train/{p.name}\n' for p in images[:3]))
    (shapes / 'data.yaml').write_text('path: .\ntrain: train.txt\nval: images/val\nnames: [disc, triangle]\n')
    dataset = load_dataset(shapes / 'data.yaml')
    assert [p.name for p in dataset.images('train')] == [p.name for p in images[:3]]
    assert check_dataset(shapes).ok


def test_hash_changes_with_a_label(shapes):
    before = dataset_hash(load_dataset(shapes))
    assert before == dataset_hash(load_dataset(shapes))
    labels = label_path(load_dataset(shapes).images('val')[0])
    labels.write_text(labels.read_text() + '0 0.5 0.5 0.1 0.1\n')
    assert dataset_hash(load_dataset(shapes)) != before


def test_writer_refuses_an_existing_dataset(shapes):
    with pytest.raises(DatasetError, match='already holds a dataset'):
        DatasetWriter(shapes, ('a',))

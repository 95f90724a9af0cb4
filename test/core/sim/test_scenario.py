"""Scenario files: the shipped ones load; unknown keys or classes name the file and the key."""

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.scenario import available_scenarios, load_scenario


def write(tmp_path, text, name='scene.yaml'):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_scenarios():
    assert {'demo', 'person_in_path'} <= set(available_scenarios())
    demo = load_scenario('demo')
    assert demo.target is not None and demo.target.class_name == 'ball'
    assert 4.0 <= demo.target.position[0] <= 6.0 and demo.target.position[1] != 0.0
    assert {o.class_name for o in demo.objects} == {'person', 'ball', 'box', 'cylinder'}
    blocked = load_scenario('person_in_path')
    person = next(o for o in blocked.objects if o.class_name == 'person')
    assert 0.0 < person.position[0] < blocked.target.position[0] and abs(person.position[1]) < 0.5


@pytest.mark.parametrize(('text', 'match'), [
    ('objects: [{class: ball, position: [1, 0]}]\ncolour: red\n', r"unknown scenario key 'colour'"),
    ('objects: [{class: ball, position: [1, 0], colour: [1, 0, 0]}]\n',
     r"objects\[0\]: unknown object key 'colour'; accepted: class, name"),
    ('objects: [{class: dog, position: [1, 0]}]\n',
     r"objects\[0\]\.class: unknown class 'dog'; accepted: person"),
    ('objects: [{class: ball, position: [1, 0]}]\nrandom_objects: {count: 1, classes: [car]}\n',
     r"random_objects\.classes\[0\]: unknown class 'car'"),
    ('objects: [{class: ball, position: [1]}]\n', r'position: expected a list of 2 numbers'),
    ('objects: [{class: box, position: [1, 0], size: 0.4}]\n', r'size: expected a list of 3 numbers'),
    ('objects: [{class: ball, position: [1, 0], target: true},\n'
     '          {class: box, position: [2, 0], target: true}]\n',
     'more than one object'),
    ('objects: []\n', 'expected a non-empty list'),
    ('objects: [{class: ball, position: [1, 0], name: robot}]\n', 'reserved'),
    ('lighting: dim\nobjects: [{class: ball, position: [1, 0]}]\n', "lighting: 'dim' is not accepted"),
    ('objects: [{class: ball\n', 'not valid YAML'),
])
def test_bad_scenarios_name_file_and_key(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as err:
        load_scenario(path)
    assert str(path) in str(err.value)


def test_unknown_name_lists_the_shipped_scenarios():
    with pytest.raises(ConfigError, match="scenario 'nowhere' not found.*demo.*person_in_path"):
        load_scenario('nowhere')


def test_overrides():
    demo = load_scenario('demo')
    changed = demo.with_overrides(target_class='cylinder', person_xy=[2.0, 0.1], start_pose=[1.0, 2.0, 0.5])
    assert changed.target.class_name == 'cylinder' and changed.target.position == demo.target.position
    person = next(o for o in changed.objects if o.class_name == 'person')
    assert person.position == (2.0, 0.1) and person.jitter == 0.0
    assert changed.start_pose == (1.0, 2.0, 0.5)
    assert demo.with_overrides() == demo
    with pytest.raises(ConfigError, match="unknown class 'dog'"):
        demo.with_overrides(target_class='dog')
    with pytest.raises(ConfigError, match='person_xy: expected a list of 2 numbers'):
        demo.with_overrides(person_xy=[1.0])

"""The embedded simulator: a MuJoCo world, a differential-drive robot and its camera, without ROS.

Modules: gl (OpenGL backend choice, before mujoco is imported), camera (intrinsics), scenario
(scenario files), world (the seeded MJCF world), robot (base kinematics and limits), render
(offscreen RGB and exact boxes), simulator (all of it on a fixed timestep), messages (its ROS
messages) and datagen (labelled images for detectors). Import the modules themselves: this
package imports nothing heavy, so the node can choose the GL backend before mujoco loads.
"""

"""The 3D stage without ROS: depth images, per-object depth, back-projection, stamp matching, TF.

- `estimate`: a depth image in metres (32FC1, 16UC1), an object's surface depth from its box
  region, and its centre and size in the camera frame.
- `sync`: an approximate-time synchroniser of two streams, with counters for what is not matched.
- `transforms`: a small TF buffer (static and timed transforms, lookups through the tree).
"""

"""The offline planner's parts: the cast, the world, the arc, and the prose it narrates in."""

def mean_changed_area(state):
    changed = state[state["changed"] > 0]
    return float(changed.geometry.area.mean()) if len(changed) else 0.0

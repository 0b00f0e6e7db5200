def run(params, context, feedback):
    return {"value": 1 / 0}


def indicator(state):
    raise ValueError("this indicator always fails")

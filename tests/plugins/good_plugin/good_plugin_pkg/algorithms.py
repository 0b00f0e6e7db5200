import geopandas as gpd


def count(params, context, feedback):
    frame = params["layer"]
    if params.get("field"):
        frame = frame[frame[params["field"]].astype(float) > params["above"]]
    feedback.set_progress(100)
    context.push_message(f"{len(frame)} features")
    out = {"count": len(frame)}
    if params.get("points") is not None:
        out["points"] = gpd.GeoDataFrame(
            {"n": [len(frame)]}, geometry=[frame.union_all().centroid], crs=frame.crs
        )
    return out


def hello(context):
    context.push_message("hello from good-plugin")

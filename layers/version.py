"""Version numbers that other code and files compare against.

The application version and the project *file format* version move independently: a format
bump means older CityDesk builds must refuse the file instead of silently dropping content.
"""

from citydesk import __version__

#: Version of the ``citydesk_project`` table layout. Bump when a saved project would be
#: misread by an older build; :mod:`citydesk.layers.project_store` refuses anything newer.
PROJECT_FORMAT_VERSION = 1

__all__ = ["PROJECT_FORMAT_VERSION", "__version__"]

"""Version numbers that other code and files compare against.

The application version and the project *file format* version move independently: a format
bump means older CityDesk builds must refuse the file instead of silently dropping content.
"""

__version__ = "0.1.0"

#: Version of the ``citydesk_project`` table layout. Bump when a saved project would be
#: misread by an older build; :mod:`layers.project_store` refuses anything newer.
PROJECT_FORMAT_VERSION = 1

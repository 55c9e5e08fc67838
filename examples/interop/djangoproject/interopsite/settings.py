"""Settings of the tiny Django project in cloakroom's interoperability
tests: database sessions on the local PostgreSQL, shared with the demo
server run as `-backend django -dsn postgres://.../<db> -secret <SECRET_KEY>`.
"""
import os

SECRET_KEY = os.environ["INTEROP_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "interopsite.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("INTEROP_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("INTEROP_PG_PORT", "5432"),
        "USER": os.environ.get("INTEROP_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("INTEROP_PG_PASSWORD", ""),
        "NAME": os.environ.get("INTEROP_PG_DB", "cloakroom_django"),
    }
}

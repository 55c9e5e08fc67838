from django.urls import path

from . import views

urlpatterns = [
    path("ready", views.ready),
    path("set", views.set_values),
    path("login", views.login_view),
    path("dump", views.dump),
    path("set_expiry", views.set_expiry),
    path("expiry", views.expiry),
]

"""The one explicit route list."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gongjian.config import PROJECT_ROOT
from web.views import (
    admin_audit,
    admin_orgs,
    admin_users,
    auth,
    dashboard,
    health,
    street_settings,
    unit_import,
    units,
)

GET, POST = ["GET"], ["POST"]


def routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard.home, methods=GET, name="home"),
        Route("/healthz", health.healthz, methods=GET, name="healthz"),
        Route("/login", auth.login_page, methods=GET, name="login"),
        Route("/login", auth.login_submit, methods=POST),
        Route("/logout", auth.logout, methods=POST, name="logout"),
        Route("/account/password", auth.password_page, methods=GET, name="password"),
        Route("/account/password", auth.password_submit, methods=POST),
        Route("/units", units.unit_list, methods=GET, name="units"),
        Route("/units/new", units.unit_new, methods=GET, name="unit_new"),
        Route("/units", units.unit_create, methods=POST),
        Route("/units/import", unit_import.import_page, methods=GET, name="unit_import"),
        Route("/units/import", unit_import.import_submit, methods=POST),
        Route("/units/import/template.xlsx", unit_import.import_template, methods=GET),
        Route("/units/{unit_id:int}", units.unit_detail, methods=GET, name="unit"),
        Route("/units/{unit_id:int}/edit", units.unit_edit, methods=GET),
        Route("/units/{unit_id:int}", units.unit_update, methods=POST),
        Route("/units/{unit_id:int}/retire", units.unit_set_active, methods=POST),
        Route("/units/{unit_id:int}/reactivate", units.unit_set_active, methods=POST),
        Route("/streets/{street_id:int}/settings", street_settings.settings_page, methods=GET),
        Route("/streets/{street_id:int}/settings", street_settings.settings_submit, methods=POST),
        Route("/admin/orgs", admin_orgs.org_list, methods=GET, name="admin_orgs"),
        Route("/admin/orgs", admin_orgs.org_create, methods=POST),
        Route("/admin/orgs/{org_id:int}/edit", admin_orgs.org_edit, methods=GET),
        Route("/admin/orgs/{org_id:int}", admin_orgs.org_update, methods=POST),
        Route("/admin/users", admin_users.user_list, methods=GET, name="admin_users"),
        Route("/admin/users/new", admin_users.user_new, methods=GET),
        Route("/admin/users", admin_users.user_create, methods=POST),
        Route("/admin/users/{user_id:int}", admin_users.user_detail, methods=GET),
        Route("/admin/users/{user_id:int}", admin_users.user_update, methods=POST),
        Route("/admin/users/{user_id:int}/password", admin_users.user_reset_password, methods=POST),
        Route("/admin/users/{user_id:int}/roles", admin_users.user_grant, methods=POST),
        Route(
            "/admin/users/{user_id:int}/roles/{grant_id:int}/revoke",
            admin_users.user_revoke,
            methods=POST,
        ),
        Route("/admin/audit", admin_audit.audit_list, methods=GET, name="admin_audit"),
        Mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static"),
    ]

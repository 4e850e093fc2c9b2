"""The one explicit route list."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

import web.convertors  # noqa: F401  (registers the `id` path convertor)
from gongjian.config import PROJECT_ROOT
from web.api import mount as api_mount
from web.live import live_socket
from web.views import (
    activities,
    activity_occurrence,
    admin_audit,
    admin_calendar,
    admin_orgs,
    admin_users,
    admission,
    auth,
    bulletins,
    coverage,
    dashboard,
    dual_report,
    feeds,
    health,
    notifications,
    points,
    reports,
    rollup,
    scores,
    sharing_booking,
    sharing_lists,
    sharing_projects,
    street_settings,
    supervision,
    task_actions,
    task_ledger,
    tasks,
    unit_import,
    units,
)
from web.views.conference import minutes as conference_minutes
from web.views.conference import prepare as conference_prepare
from web.views.conference import room as conference_room
from web.views.conference import setup as conference_setup

GET, POST = ["GET"], ["POST"]


def routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard.home, methods=GET, name="home"),
        Route("/healthz", health.healthz, methods=GET, name="healthz"),
        api_mount(),  # /api/v1: JSON for machine clients (bearer tokens)
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
        Route("/units/{unit_id:id}", units.unit_detail, methods=GET, name="unit"),
        Route("/units/{unit_id:id}/edit", units.unit_edit, methods=GET),
        Route("/units/{unit_id:id}", units.unit_update, methods=POST),
        Route("/units/{unit_id:id}/retire", units.unit_set_active, methods=POST),
        Route("/units/{unit_id:id}/reactivate", units.unit_set_active, methods=POST),
        Route("/streets/{street_id:id}/settings", street_settings.settings_page, methods=GET),
        Route("/streets/{street_id:id}/settings", street_settings.settings_submit, methods=POST),
        Route("/admin/orgs", admin_orgs.org_list, methods=GET, name="admin_orgs"),
        Route("/admin/orgs", admin_orgs.org_create, methods=POST),
        Route("/admin/orgs/{org_id:id}/edit", admin_orgs.org_edit, methods=GET),
        Route("/admin/orgs/{org_id:id}", admin_orgs.org_update, methods=POST),
        Route("/admin/users", admin_users.user_list, methods=GET, name="admin_users"),
        Route("/admin/users/new", admin_users.user_new, methods=GET),
        Route("/admin/users", admin_users.user_create, methods=POST),
        Route("/admin/users/{user_id:id}", admin_users.user_detail, methods=GET),
        Route("/admin/users/{user_id:id}", admin_users.user_update, methods=POST),
        Route("/admin/users/{user_id:id}/password", admin_users.user_reset_password, methods=POST),
        Route("/admin/users/{user_id:id}/roles", admin_users.user_grant, methods=POST),
        Route(
            "/admin/users/{user_id:id}/roles/{grant_id:id}/revoke",
            admin_users.user_revoke,
            methods=POST,
        ),
        Route("/admin/audit", admin_audit.audit_list, methods=GET, name="admin_audit"),
        Route("/notifications", notifications.notification_list, methods=GET, name="notifications"),
        Route("/notifications/read-all", notifications.notification_read_all, methods=POST),
        Route(
            "/notifications/{notification_id:int}/open",
            notifications.notification_open,
            methods=POST,
        ),
        WebSocketRoute("/live", live_socket, name="live"),
        *conference_setup.ROUTES,
        *conference_prepare.ROUTES,
        *conference_room.ROUTES,
        *conference_minutes.ROUTES,
        *admin_calendar.ROUTES,
        *tasks.ROUTES,
        *task_actions.ROUTES,
        *task_ledger.ROUTES,
        *admission.ROUTES,
        *supervision.ROUTES,
        *sharing_booking.ROUTES,
        *sharing_lists.ROUTES,
        *sharing_projects.ROUTES,
        *activities.ROUTES,
        *activity_occurrence.ROUTES,
        *dual_report.ROUTES,
        *points.ROUTES,
        *feeds.ROUTES,
        *coverage.ROUTES,
        *scores.ROUTES,
        *reports.ROUTES,
        *bulletins.ROUTES,
        *rollup.ROUTES,
        Mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static"),
    ]

"""Grant officers set up funds, rounds, criteria, application forms and the
assessment framework in Wagtail: give their group admin access and those models."""

from django.db import migrations

MODELS = {
    "grants": ("fund", "round", "applicationform"),
    "assessments": ("framework", "frameworkversion"),
}
ACTIONS = {"add": "Can add", "change": "Can change", "delete": "Can delete", "view": "Can view"}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="Grant officers")
    # Permissions are normally made after migrating; make them now so the group can hold them.
    for app_label, models in MODELS.items():
        for model in models:
            content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            for action, label in ACTIONS.items():
                permission, _ = Permission.objects.get_or_create(
                    content_type=content_type,
                    codename=f"{action}_{model}",
                    defaults={"name": f"{label} {model}"},
                )
                group.permissions.add(permission)
    admin_type, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access_admin, _ = Permission.objects.get_or_create(
        content_type=admin_type, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )
    group.permissions.add(access_admin)


def ungrant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Grant officers").first()
    if group is None:
        return
    codenames = [f"{a}_{m}" for models in MODELS.values() for m in models for a in ACTIONS]
    group.permissions.remove(
        *Permission.objects.filter(content_type__app_label__in=MODELS, codename__in=codenames)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0001_initial"),
        ("assessments", "0001_initial"),
        ("accounts", "0002_role_groups"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]

"""Commissioners keep the fair cost rates, block contracts and Market Position Statement
commentary in Wagtail: give their group admin access and those snippets."""

from django.db import migrations

MODELS = ("faircostrate", "blockcontract", "marketpositioncommentary")
ACTIONS = {"add": "Can add", "change": "Can change", "delete": "Can delete", "view": "Can view"}
GROUP = "Commissioners"


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    # Permissions are normally made after migrating; make them now so the group can hold them.
    for model in MODELS:
        content_type, _ = ContentType.objects.get_or_create(app_label="demand", model=model)
        for action, label in ACTIONS.items():
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model}",
                defaults={"name": f"{label} {model}"},
            )
            group.permissions.add(permission)
    admin_type, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access_admin, _ = Permission.objects.get_or_create(
        content_type=admin_type,
        codename="access_admin",
        defaults={"name": "Can access Wagtail admin"},
    )
    group.permissions.add(access_admin)


def ungrant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is None:
        return
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    group.permissions.remove(
        *Permission.objects.filter(content_type__app_label="demand", codename__in=codenames)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0002_grouping_rollups"),
        ("accounts", "0002_role_groups"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]

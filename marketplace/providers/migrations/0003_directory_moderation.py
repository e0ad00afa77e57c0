"""The council's directory moderation set-up.

Groups a council officer recognises: "Directory editors" may change provider
records (their changes wait for approval); "Moderators" approve or reject them
in the "Directory moderation" workflow, which every organisation and service
change goes through.
"""

from django.db import migrations

MODELS = ("organisation", "service")
EDITOR_ACTIONS = ("add", "change", "view", "lock", "unlock")
MODERATOR_ACTIONS = ("add", "change", "delete", "view", "publish", "lock", "unlock")
ACTION_NAMES = {
    "add": "Can add",
    "change": "Can change",
    "delete": "Can delete",
    "view": "Can view",
    "publish": "Can publish",
    "lock": "Can lock",
    "unlock": "Can unlock",
}


def set_up_moderation(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    # Permissions are normally made after migrating; make them now so groups can hold them.
    permissions = {}
    content_types = {}
    for model in MODELS:
        content_type, _ = ContentType.objects.get_or_create(app_label="providers", model=model)
        content_types[model] = content_type
        for action, label in ACTION_NAMES.items():
            permissions[(action, model)], _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model}",
                defaults={"name": f"{label} {model}"},
            )
    access_admin = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()

    editors, _ = Group.objects.get_or_create(name="Directory editors")
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    for group, actions in ((editors, EDITOR_ACTIONS), (moderators, MODERATOR_ACTIONS)):
        group.permissions.add(*[permissions[(action, model)] for model in MODELS for action in actions])
        if access_admin is not None:
            group.permissions.add(access_admin)

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task = GroupApprovalTask.objects.create(
        name="Moderator approval", content_type=task_type, active=True
    )
    task.groups.set([moderators])
    workflow = Workflow.objects.create(name="Directory moderation", active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for content_type in content_types.values():
        WorkflowContentType.objects.update_or_create(
            content_type=content_type, defaults={"workflow": workflow}
        )


def remove_moderation(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    Group = apps.get_model("auth", "Group")
    Workflow.objects.filter(name="Directory moderation").delete()
    Task.objects.filter(name="Moderator approval").delete()
    Group.objects.filter(name="Directory editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_organisation_charity_number_and_more"),
        ("wagtailcore", "0094_alter_page_locale"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(set_up_moderation, remove_moderation)]

"""Sign-on mappings: an OpenID Connect claim or a directory group gives a unit, a role and a rank."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_product_version'),
    ]

    operations = [
        migrations.CreateModel(
            name='IdentityMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('oidc', 'Unified identity (OpenID Connect)'), ('ldap', 'Office directory (LDAP)')], max_length=10, verbose_name='sign-on')),
                ('claim', models.CharField(help_text="OpenID Connect: the name of a claim, such as groups or department. Office directory: group for the person's directory groups (by name or DN), or an attribute of their entry, such as departmentNumber.", max_length=100, verbose_name='claim')),
                ('value', models.CharField(help_text="The claim's value, or one of its values, ignoring case.", max_length=255, verbose_name='value')),
                ('role', models.CharField(choices=[('secretariat', 'Secretariat'), ('supervisor', 'Supervisor'), ('unit_staff', 'Unit staff'), ('unit_head', 'Unit head'), ('leader', 'Responsible leader'), ('institution', 'Institution user'), ('owner', 'Project owner')], max_length=20, verbose_name='role')),
                ('rank', models.CharField(choices=[('city_leader', 'City leader'), ('unit_chief', 'Unit chief'), ('unit_deputy', 'Deputy unit chief'), ('section_chief', 'Section chief'), ('staff', 'Staff member')], default='staff', max_length=20, verbose_name='rank')),
                ('priority', models.PositiveSmallIntegerField(default=100, help_text='When several rows match one person, the row with the lowest number decides.', verbose_name='priority')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='identity_mappings', to='cases.unit', verbose_name='unit')),
            ],
            options={
                'verbose_name': 'sign-on mapping',
                'verbose_name_plural': 'sign-on mappings',
                'ordering': ['source', 'priority', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('source', 'claim', 'value'), name='uniq_identity_mapping')],
            },
        ),
    ]

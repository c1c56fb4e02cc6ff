"""`flask ocds export [--output FILE]`: the whole OCDS release package in one file, the same
releases the API serves page by page."""

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from procurement.extensions import db
from procurement.opendata import ocds

ocds_cli = AppGroup("ocds", help="开放数据（OCDS）")


def export_package(base_url: str) -> dict:
    """Every published tender's release; URLs are made against `base_url`."""
    with current_app.test_request_context(base_url=base_url):
        tenders = db.session.scalars(ocds.published_tenders()).all()
        return ocds.package(tenders, uri=url_for("opendata.releases", _external=True),
                            policy_uri=url_for("opendata.policy", _external=True))


@ocds_cli.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="输出文件（默认输出到标准输出）")
@click.option("--base-url", default="http://localhost", show_default=True,
              help="本平台的公开网址，用于数据包中的链接")
def export(output: str | None, base_url: str):
    """导出全部公开的招标、中标、合同和拨付数据（OCDS 1.1 发布包）。"""
    document = export_package(base_url)
    if not document["releases"]:  # a release package holds at least one release
        raise click.ClickException("目前还没有公开的采购项目，没有可导出的数据。")
    text = ocds.dumps(document, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"已导出 {output}", err=True)
    else:
        click.echo(text)

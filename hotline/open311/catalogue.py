"""The Open311 services: one per category (归口办理: the category picks the line department), each with the same
definition: the kind of request (诉求类型, which sets the reply deadline), the territory where it happens
(属地管理: with the category it picks the unit) and whether it is urgent."""

from __future__ import annotations

from hotline.errors import NotFound
from hotline.infra.runtime import Runtime
from hotline.open311.shapes import Attribute, AttributeValue, Service, ServiceDefinition

GROUP = "交通运输"
KIND, TERRITORY, URGENT = "kind", "territory", "urgent"
ATTRIBUTES = (KIND, TERRITORY, URGENT)


def services(rt: Runtime) -> list[Service]:
    return [
        Service(
            service_code=code,
            service_name=name,
            description=f"{name}方面的咨询、求助、投诉、举报、建议和表扬",
            metadata=True,
            type="realtime",
            keywords=f"{name}, {code}",
            group=GROUP,
        )
        for code, name in sorted(rt.names.categories.items())
    ]


def definition(rt: Runtime, service_code: str) -> ServiceDefinition:
    if service_code not in rt.names.categories:
        raise NotFound(
            f"service_code {service_code!r} was not found",
            fields={"service_code": f"{service_code!r} was not found; see services.json"},
        )
    return ServiceDefinition(
        service_code=service_code,
        attributes=[
            Attribute(
                variable=True,
                code=KIND,
                datatype="singlevaluelist",
                required=True,
                datatype_description="诉求类型，决定答复时限",
                order=1,
                description="诉求类型",
                values=[AttributeValue(key=k, name=n) for k, n in rt.names.kinds.items()],
            ),
            Attribute(
                variable=True,
                code=TERRITORY,
                datatype="singlevaluelist",
                required=False,
                datatype_description="问题发生地所在区县（GB/T 2260 代码）；不填时由派单员派单",
                order=2,
                description="发生地",
                values=[AttributeValue(key=k, name=n) for k, n in sorted(rt.names.territories.items())],
            ),
            Attribute(
                variable=True,
                code=URGENT,
                datatype="singlevaluelist",
                required=False,
                datatype_description="紧急诉求按紧急时限办理",
                order=3,
                description="是否紧急",
                values=[AttributeValue(key="false", name="否"), AttributeValue(key="true", name="是")],
            ),
        ],
    )

"""The common JUnit XML shape as an XML schema, and a validator (lxml), for the tests of ``qvalid diff --junit``
(tests/test_snapshot.py) and of the CI example (tests/test_ci_example.py).

The schema is written here from the structure every CI system reads (Ant's junitreport, as Jenkins, GitLab and the
GitHub test reporters parse it): ``testsuites`` > ``testsuite`` (name, tests, failures, errors required; skipped,
time, timestamp, hostname optional; ``properties`` first, ``system-out``/``system-err`` last) > ``testcase`` (name,
classname required; time) with any of ``skipped``, ``error``, ``failure`` (message, type) and its own output.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["JUNIT_XSD", "validate_junit"]

JUNIT_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- The common JUnit XML shape (Ant's junitreport as Jenkins, GitLab and GitHub reporters read it): testsuites of
     testcases with an optional failure, error or skipped each; counts as attributes. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:element name="failure"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
    <xs:attribute name="message" type="xs:string"/><xs:attribute name="type" type="xs:string"/>
  </xs:extension></xs:simpleContent></xs:complexType></xs:element>
  <xs:element name="error"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
    <xs:attribute name="message" type="xs:string"/><xs:attribute name="type" type="xs:string"/>
  </xs:extension></xs:simpleContent></xs:complexType></xs:element>
  <xs:element name="skipped"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
    <xs:attribute name="message" type="xs:string"/>
  </xs:extension></xs:simpleContent></xs:complexType></xs:element>
  <xs:element name="system-out" type="xs:string"/>
  <xs:element name="system-err" type="xs:string"/>
  <xs:element name="properties"><xs:complexType><xs:sequence>
    <xs:element name="property" minOccurs="0" maxOccurs="unbounded"><xs:complexType>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="value" type="xs:string" use="required"/>
    </xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="testcase"><xs:complexType>
    <xs:sequence>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element ref="skipped"/><xs:element ref="error"/><xs:element ref="failure"/>
      </xs:choice>
      <xs:element ref="system-out" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element ref="system-err" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attribute name="name" type="xs:string" use="required"/>
    <xs:attribute name="classname" type="xs:string" use="required"/>
    <xs:attribute name="time" type="xs:decimal"/>
  </xs:complexType></xs:element>
  <xs:element name="testsuite"><xs:complexType>
    <xs:sequence>
      <xs:element ref="properties" minOccurs="0"/>
      <xs:element ref="testcase" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element ref="system-out" minOccurs="0"/>
      <xs:element ref="system-err" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="name" type="xs:string" use="required"/>
    <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
    <xs:attribute name="time" type="xs:decimal"/>
    <xs:attribute name="timestamp" type="xs:string"/>
    <xs:attribute name="hostname" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="testsuites"><xs:complexType>
    <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
    <xs:attribute name="name" type="xs:string"/>
    <xs:attribute name="tests" type="xs:nonNegativeInteger"/>
    <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
    <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
    <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
    <xs:attribute name="time" type="xs:decimal"/>
  </xs:complexType></xs:element>
</xs:schema>
"""


def validate_junit(path: Path):
    """Validate a JUnit XML file against :data:`JUNIT_XSD` (raises ``lxml.etree.DocumentInvalid``); its root."""
    from lxml import etree

    schema = etree.XMLSchema(etree.fromstring(JUNIT_XSD.encode()))
    doc = etree.parse(str(path))
    schema.assertValid(doc)
    return doc.getroot()

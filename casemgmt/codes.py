"""The domain's code lists (DOMAIN.md) with their labels for people."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLES = {
    "village_worker": _l("Village worker (PATBM / Puskesos)"),
    "social_worker": _l("Social worker (Sakti Peksos)"),
    "coordinator": _l("PKSAI coordinator"),
    "agency_officer": _l("Agency officer"),
    "analyst": _l("Analyst"),
    "admin": _l("Administrator"),
}

SEXES = {"F": _l("Female"), "M": _l("Male")}

# A person's place on the Kartu Keluarga: SIAK's STAT_HBKEL codes, labelled as Dukcapil words
# them in Indonesian (the catalogue's translations).
RELATIONSHIPS_TO_HEAD = {
    "1": _l("Head of household"),
    "2": _l("Husband"),
    "3": _l("Wife"),
    "4": _l("Child"),
    "5": _l("Son- or daughter-in-law"),
    "6": _l("Grandchild"),
    "7": _l("Parent"),
    "8": _l("Parent-in-law"),
    "9": _l("Other relative"),
    "10": _l("Domestic helper"),
    "11": _l("Other"),
}

ORGANISATION_KINDS = {
    "patbm": _l("PATBM (community child protection)"),
    "puskesos": _l("Puskesos (village social welfare centre)"),
    "shelter_warga": _l("Shelter Warga"),
    "pksai": _l("PKSAI"),
    "dinas_sosial": _l("Dinas Sosial (social affairs office)"),
    "dp3a": _l("DP3A (women's empowerment and child protection office)"),
    "upt_ppa": _l("UPT PPA"),
    "dukcapil": _l("Dukcapil (civil registry)"),
    "puskesmas": _l("Puskesmas (community health centre)"),
    "dinas_kesehatan": _l("Dinas Kesehatan (health office)"),
    "dinas_pendidikan": _l("Dinas Pendidikan (education office)"),
    "school": _l("School"),
    "police": _l("Police (PPA unit)"),
    "bapas": _l("Bapas (probation office)"),
    "lksa": _l("LKSA (child welfare institution)"),
    "ngo": _l("NGO"),
}

SERVICES = {
    "case_management": _l("Case management"),
    "birth_certificate": _l("Birth certificate"),
    "education": _l("Education"),
    "health": _l("Health"),
    "psychosocial": _l("Psychosocial support"),
    "legal_aid": _l("Legal aid"),
    "police": _l("Police"),
    "safe_house": _l("Safe house"),
    "family_support": _l("Family support"),
    "social_assistance": _l("Social assistance"),
    "rehabilitation": _l("Rehabilitation"),
    "diversion": _l("Diversion"),
    "reintegration": _l("Reintegration"),
}

# Children in need of special protection (UU 35/2014 Art. 59(2)).
SPECIAL_PROTECTION = {
    "emergency": _l("Emergency situation"),
    "abh_offender": _l("Child in conflict with the law"),
    "abh_victim": _l("Child victim of a crime"),
    "abh_witness": _l("Child witness of a crime"),
    "minority_isolated": _l("Minority or isolated group"),
    "economic_exploitation": _l("Economic exploitation"),
    "sexual_exploitation": _l("Sexual exploitation"),
    "substance_abuse": _l("Substance abuse (NAPZA)"),
    "pornography": _l("Pornography"),
    "hiv_aids": _l("HIV/AIDS"),
    "trafficking": _l("Abduction, sale or trafficking"),
    "physical_violence": _l("Physical violence"),
    "psychological_violence": _l("Psychological violence"),
    "sexual_violence": _l("Sexual violence"),
    "terrorism_network": _l("Terrorism network"),
    "disability": _l("Disability"),
    "neglect": _l("Maltreatment and neglect"),
    "deviant_behaviour": _l("Social deviant behaviour"),
    "parental_stigma": _l("Stigma from parents' status"),
}

# Child welfare needs handled by Puskesos and PKSAI (anak rentan).
WELFARE_NEEDS = {
    "no_birth_certificate": _l("No birth certificate"),
    "out_of_school": _l("Out of school"),
    "child_marriage": _l("Child marriage"),
    "child_labour": _l("Child labour"),
    "street_child": _l("Street child"),
    "no_caregiver": _l("No caregiver"),
    "basic_needs": _l("Basic needs unmet"),
}

CONCERNS = {**SPECIAL_PROTECTION, **WELFARE_NEEDS}

AREA_LEVELS = {
    "province": _l("Province"),
    "regency": _l("Regency / city"),
    "district": _l("Kecamatan"),
    "village": _l("Village / kelurahan"),
}


def choices(mapping: dict, optgroup: str | None = None) -> list:
    """WTForms choices from a code mapping, labels translated at render time."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(code, label, optgroup=optgroup) for code, label in mapping.items()]

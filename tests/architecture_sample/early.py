"""Imports ``late`` inside a function, as a hidden circle would."""


def use_late():
    from . import late

    return late.VALUE

"""Copies of recordings that leave callrec: the two ways out, and the register of each copy."""

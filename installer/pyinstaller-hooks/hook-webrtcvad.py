"""PyInstaller hook for webrtcvad as installed by the ``webrtcvad-wheels`` distribution.

It replaces the hooks-contrib hook, which copies the metadata of a ``webrtcvad`` distribution
and fails the build when only ``webrtcvad-wheels`` is installed; the module reads its version
from ``webrtcvad-wheels``.
"""

from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")

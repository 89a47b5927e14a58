"""Uploading a file to Slack from disk a part at a time: slack_sdk's files_upload_v2 reads the whole file into
memory first, which for an export of 100,000 nominations is tens of megabytes in the worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient


async def upload_file(client: AsyncWebClient, *, path: Path, filename: str, title: str, channel: str,
                      initial_comment: str) -> str:
    """Slack's three steps (ask for an upload URL, send the bytes, complete into `channel`), the bytes streamed
    from `path`. Returns the file's id."""
    length = (await asyncio.to_thread(path.stat)).st_size
    answer = await client.files_getUploadURLExternal(filename=filename, length=length)
    session = client.session or aiohttp.ClientSession()
    try:
        with path.open("rb") as body:  # aiohttp sends an open file in chunks, with its length
            async with session.post(str(answer["upload_url"]), data=body) as response:
                if response.status != 200:
                    raise aiohttp.ClientResponseError(response.request_info, (), status=response.status,
                                                      message="the upload URL refused the file")
    finally:
        if session is not client.session:
            await session.close()
    file_id = str(answer["file_id"])
    await client.files_completeUploadExternal(files=[{"id": file_id, "title": title}], channel_id=channel,
                                              initial_comment=initial_comment)
    return file_id
